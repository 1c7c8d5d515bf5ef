import { describe, expect, it } from 'vitest';
import { describeWithBinaries, integrationPlan } from './vitest.js';

let ranAvailable = false;

describeWithBinaries({ available: true, missing: [], mustFail: false, reason: '' }, 'available', () => {
  ranAvailable = true;
  it('runs the body', () => {
    expect(ranAvailable).toBe(true);
  });
});

describe('integrationPlan', () => {
  it('runs a block whose programs are installed', () => {
    expect(integrationPlan({ available: true, missing: [], mustFail: false, reason: '' })).toEqual({
      kind: 'run',
    });
  });

  it('skips with the reason when a program is missing', () => {
    expect(
      integrationPlan({
        available: false,
        missing: ['docker-registry'],
        mustFail: false,
        reason: 'docker-registry not found; apt-get install -y docker-registry',
      }),
    ).toEqual({
      kind: 'skip',
      title: 'skipped: docker-registry not found; apt-get install -y docker-registry',
      reason: 'docker-registry not found; apt-get install -y docker-registry',
    });
  });

  it('fails under CI=true, naming every missing program', () => {
    expect(
      integrationPlan({
        available: false,
        missing: ['docker-registry', 'skopeo'],
        mustFail: true,
        reason: 'docker-registry and skopeo not found',
      }),
    ).toEqual({
      kind: 'fail',
      title: 'needs docker-registry and skopeo (CI=true)',
      reason: 'docker-registry and skopeo not found',
    });
  });
});
