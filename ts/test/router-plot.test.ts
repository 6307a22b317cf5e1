import { describe, expect, it } from 'vitest';

import { profilePlot, profilePoints } from '../src/lab/index.js';

describe('profilePoints', () => {
  it('steps up by each ratio’s share, from the share already at the left edge to the right edge', () => {
    expect(profilePoints([1, 1, 1.5, 3], 1, 4)).toEqual([
      [1, 0.5],
      [1.5, 0.5],
      [1.5, 0.75],
      [3, 0.75],
      [3, 1],
      [4, 1],
    ]);
    // A ratio beyond the right edge never counts; one below the left edge counts from the start.
    expect(profilePoints([0.8, 10], 1, 5)).toEqual([
      [1, 0.5],
      [5, 0.5],
    ]);
    // A strategy that lost the batch (infinite ratio) is a cluster it never finishes.
    expect(profilePoints([1.2, Infinity], 1, 2).at(-1)).toEqual([2, 0.5]);
    expect(profilePoints([], 1, 2)).toEqual([]);
  });
});

describe('profilePlot', () => {
  it('draws one curve per strategy in each panel, over every ratio and zoomed in, with escaped names', () => {
    const svg = profilePlot(
      [
        {
          name: 'no noise',
          curves: [
            { strategy: 'adaptive', ratios: [1, 1.02] },
            { strategy: 'one<node>', ratios: [2, 17] },
          ],
        },
        {
          name: 'noise 30%',
          curves: [
            { strategy: 'adaptive', ratios: [0.95, 1.1] },
            { strategy: 'one<node>', ratios: [2.2, 16] },
          ],
        },
      ],
      'Title & more',
      'sub',
    );
    expect(svg).toMatch(/^<svg [^>]*>/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // Two panels of two curves, over every ratio and again up to 1.5x.
    expect(svg.match(/<polyline /g)).toHaveLength(8);
    expect(svg).toContain('font-weight="bold">no noise, up to 1.5×<');
    expect(svg).toContain('Title &amp; more');
    expect(svg).toContain('one&lt;node&gt;');
    expect(svg).not.toContain('one<node>');
    expect(svg).toContain('font-weight="bold">no noise<');
    expect(svg).toContain('font-weight="bold">noise 30%<');
    // The worst ratio of each curve is in its tooltip; the axis reaches past the largest ratio.
    expect(svg).toContain('one&lt;node&gt;: worst 17.000×');
    expect(svg).toContain('>10×<');
    // Without ratios beyond the zoom there is one row.
    const near = profilePlot([{ name: 'p', curves: [{ strategy: 's', ratios: [1, 1.01] }] }], 't', '', 3);
    expect(near.match(/<polyline /g)).toHaveLength(1);
  });
});
