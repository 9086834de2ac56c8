import { expect, it } from 'vitest';
import { featureField, FeatureKeys } from '../../../../src/recommender/features/feature-keys.js';

it('builds exact feature keys and crosses, the same before and after a level fills up and starts over', () => {
  const keys = new FeatureKeys();
  expect(keys.single('tool', 'git')).toBe('tool=git');
  expect(keys.single('attr.team', 'core')).toBe('attr.team=core');
  expect(keys.cross('tool×domain', 'tool', 'git', 'domain', 'web')).toBe('tool=git×domain=web');
  // Same value under another field or another cross: a different key, never a cached neighbour.
  expect(keys.single('repo', 'git')).toBe('repo=git');
  expect(keys.cross('tool×repo', 'tool', 'git', 'repo', 'web')).toBe('tool=git×repo=web');
  for (let i = 0; i < 120_000; i++) {
    expect(keys.single('repo', `r${i}`)).toBe(`repo=r${i}`);
    expect(keys.cross('tool×repo', 'tool', `t${i % 3}`, 'repo', `r${i}`)).toBe(`tool=t${i % 3}×repo=r${i}`);
  }
  expect(keys.single('tool', 'git')).toBe('tool=git');
  expect(keys.single('repo', 'r7')).toBe('repo=r7');
});

it('names the field of every kind of feature key: what DCN gives a slot of its own', () => {
  expect(featureField('tool=git')).toBe('tool');
  expect(featureField('prev_action=search')).toBe('prev_action');
  expect(featureField('prev2=search|open')).toBe('prev2');
  expect(featureField('last_outcome=error:Timeout')).toBe('last_outcome');
  expect(featureField('last_outcome=ok')).toBe('last_outcome');
  expect(featureField('turn=3-4')).toBe('turn');
  expect(featureField('attr.team=core')).toBe('attr.team');
  // A cross is its own field, not its first side's.
  expect(featureField('tool=git×domain=web')).toBe('tool×domain');
  expect(featureField('text.text#1043')).toBe('text.text');
  expect(featureField('bias')).toBe('bias');
  // A value holding '=' stays inside its key's field.
  expect(featureField('prev_action=a=b')).toBe('prev_action');
});
