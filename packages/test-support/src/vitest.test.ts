import { describe, expect, it } from 'vitest';
import { describeWithBinaries } from './vitest.js';

let ranUnavailable = false;
let ranAvailable = false;

describeWithBinaries(
  { available: false, missing: ['nothing-here'], mustFail: false, reason: 'nothing-here not found' },
  'an unavailable program',
  () => {
    ranUnavailable = true;
    it('never runs', () => {
      throw new Error('the body of an unavailable describe ran');
    });
  },
);

describeWithBinaries({ available: true, missing: [], mustFail: false, reason: '' }, 'available', () => {
  ranAvailable = true;
  it('runs the body', () => {
    expect(ranAvailable).toBe(true);
  });
});

describe('describeWithBinaries', () => {
  it('does not collect the body of a describe whose programs are missing', () => {
    expect(ranUnavailable).toBe(false);
  });
});
