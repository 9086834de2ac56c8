import { expect, it } from 'vitest';
import { FeatureKeys } from '../../../../src/recommender/features/feature-keys.js';

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
