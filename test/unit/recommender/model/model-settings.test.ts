import { describe, expect, it } from 'vitest';
import { modelOptionsFromSettings, timeFeaturesFromSettings } from '../../../../src/recommender/model/model-settings.js';
import { recommenderModel } from '../../../../src/recommender/model/recommender-model.js';

describe('model settings', () => {
  it('gives ratings their own linear learning rate, 0.4 unless set', () => {
    expect(recommenderModel({ name: 'rec' }).rating.linearLearningRate).toBe(0.4);
    const options = modelOptionsFromSettings({ ratingLinearLearningRate: '0.2' });
    expect(recommenderModel({ ...options, name: 'rec' }).rating.linearLearningRate).toBe(0.2);
  });

  it('names the setting or option a bad linear learning rate came from', () => {
    expect(() => modelOptionsFromSettings({ ratingLinearLearningRate: 'fast' })).toThrow(/\/settings\/ratingLinearLearningRate/);
    expect(() => modelOptionsFromSettings({ ratingLinearLearningRate: '0' })).toThrow(/\/settings\/ratingLinearLearningRate/);
    expect(() => recommenderModel({ name: 'rec', rating: { linearLearningRate: -1 } })).toThrow(/\/model\/rating\/linearLearningRate/);
  });

  it('weighs a rating at a tenth of a choice and the user row at 1 unless set, naming a bad setting', () => {
    const defaults = recommenderModel({ name: 'rec' });
    expect([defaults.rating.weight, defaults.userWeight]).toEqual([0.1, 1]);
    const set = recommenderModel({ ...modelOptionsFromSettings({ ratingWeight: '0.5', userWeight: '4' }), name: 'rec' });
    expect([set.rating.weight, set.userWeight]).toEqual([0.5, 4]);
    expect(() => modelOptionsFromSettings({ ratingWeight: '-1' })).toThrow(/\/settings\/ratingWeight/);
    expect(() => modelOptionsFromSettings({ userWeight: 'heavy' })).toThrow(/\/settings\/userWeight/);
    expect(() => recommenderModel({ name: 'rec', userWeight: 1000 })).toThrow(/\/model\/userWeight/);
  });

  it('crosses the previous action, its outcome and the taken actions with each candidate unless candidateCrosses says otherwise', () => {
    const crosses = (settings: Record<string, string>) =>
      recommenderModel({ ...modelOptionsFromSettings(settings), name: 'rec' }).candidateCrosses;
    expect(crosses({})).toMatchObject({ fields: ['prev_action', 'prev_outcome', 'taken'], optimizer: { learningRate: 0.2 } });
    expect(crosses({ candidateCrosses: 'none' })).toBeUndefined();
    expect(crosses({ candidateCrosses: 'prev2, tool', crossLearningRate: '0.5' })).toMatchObject({
      fields: ['prev2', 'tool'],
      optimizer: { learningRate: 0.5 },
    });
    expect(() => modelOptionsFromSettings({ candidateCrosses: 'prev_action,,tool' })).toThrow(/\/settings\/candidateCrosses/);
    expect(() => modelOptionsFromSettings({ crossLearningRate: '0' })).toThrow(/\/settings\/crossLearningRate/);
  });

  it('leaves time features off unless timeFeatures=true, and names the setting when it is neither', () => {
    expect(timeFeaturesFromSettings({})).toEqual({ hourOfDay: false, dayOfWeek: false });
    expect(timeFeaturesFromSettings({ timeFeatures: 'true' })).toEqual({ hourOfDay: true, dayOfWeek: true });
    expect(() => timeFeaturesFromSettings({ timeFeatures: 'yes' })).toThrow(/\/settings\/timeFeatures/);
  });
});
