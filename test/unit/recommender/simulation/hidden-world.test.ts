import { describe, expect, it } from 'vitest';
import { SimulatedUsers } from '../../../../src/recommender/simulation/simulated-users.js';

const index = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));

describe('SimulatedUsers.hiddenWorld(): the truth a ceiling study is told', () => {
  it('explains every preference as taste · action vector plus 2 for the favourite tool of the domain', () => {
    const users = new SimulatedUsers({ users: 20, actions: 30, seed: 3 });
    const world = users.hiddenWorld();
    const d = world.latentDim;
    for (let u = 0; u < 20; u++) {
      for (let a = 0; a < 30; a += 7) {
        for (let domain = 0; domain < world.domains.length; domain++) {
          let expected = 0;
          for (let k = 0; k < d; k++) expected += world.userTaste[u * d + k] * world.actionTaste[a * d + k];
          if (world.actionTool[a] === world.favouriteTool[u * world.domains.length + domain]) expected += 2;
          expect(users.preference(u, a, domain)).toBeCloseTo(expected, 4);
        }
      }
    }
  });

  it("names the previous choice each request's sequence bonus follows, whose successors it offers", () => {
    const users = new SimulatedUsers({ users: 10, actions: 40, candidates: 8, sequence: 2, seed: 5 });
    const world = users.hiddenWorld();
    let followed = 0;
    for (let i = 0; i < 2000; i++) {
      const previous = Array.from({ length: users.users }, (_, u) => world.previousChoice(u));
      const event = users.next();
      if (event.kind !== 'REQUEST') continue;
      const before = previous[index(event.userId)];
      if (before < 0) continue;
      followed++;
      const boosted = event.candidates.filter((c) => world.sequenceBonus(before, index(c.actionId)) > 0);
      expect(boosted.length).toBe(3);
    }
    expect(followed).toBeGreaterThan(100);
  });

  it('has no previous choice and no bonus in a world without sequence', () => {
    const users = new SimulatedUsers({ users: 10, actions: 40, seed: 5 });
    const world = users.hiddenWorld();
    for (let i = 0; i < 200; i++) users.next();
    for (let u = 0; u < 10; u++) expect(world.previousChoice(u)).toBe(-1);
    expect(world.sequenceBonus(1, 2)).toBe(0);
  });
});
