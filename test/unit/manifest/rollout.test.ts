// The manifest's rollout: defaults, the wave size forms, and canary selectors that pick no host.
import { describe, expect, it } from 'vitest';
import { parseWaveSize } from '../../../src/manifest/index.js';
import { parse, problems, yaml } from './helpers.js';

const HOSTS = ['hosts:', '  vps-pacman: { tags: [vps] }', '  web-1: {}', '  web-2: {}'];

describe('rollout in the manifest', () => {
  it('is absent unless written', () => {
    expect(parse(yaml('version: 1', ...HOSTS)).rollout).toBeUndefined();
  });

  it('fills its defaults', () => {
    expect(parse(yaml('version: 1', 'rollout: {}', ...HOSTS)).rollout).toEqual({ canary: [], pause: 0, onFailure: 'stop' });
  });

  it('takes a canary list or one selector, a count or a percentage', () => {
    expect(parse(yaml('version: 1', 'rollout:', '  canary: [vps-pacman, "web-*"]', '  waves: 25%', '  pause: 30', '  onFailure: rollback', ...HOSTS)).rollout).toEqual({
      canary: ['vps-pacman', 'web-*'],
      waves: { percent: 25 },
      pause: 30,
      onFailure: 'rollback',
    });
    expect(parse(yaml('version: 1', 'rollout:', '  canary: "@vps"', '  waves: 2', ...HOSTS)).rollout).toMatchObject({ canary: ['@vps'], waves: { hosts: 2 } });
  });

  it('reports every canary selector that picks no host, and bad wave sizes, with their positions', () => {
    expect(problems(yaml('version: 1', 'rollout:', '  canary: [vps-pacmn, "@nope", "db-*"]', ...HOSTS))).toEqual([
      '3:12: rollout.canary[0] "vps-pacmn" is not a host of this manifest (did you mean "vps-pacman"?)',
      '3:23: rollout.canary[1] "@nope": no host has the tag nope',
      '3:32: rollout.canary[2] "db-*" matches no host',
    ]);
    for (const bad of ['0', '"0%"', '"101%"', '"a lot"', '1.5', '-2']) {
      expect(problems(yaml('version: 1', 'rollout:', `  waves: ${bad}`, ...HOSTS)), bad).toHaveLength(1);
    }
    expect(problems(yaml('version: 1', 'rollout:', '  onFailure: continue', ...HOSTS))[0]).toMatch(/^3:14: rollout.onFailure/);
    expect(problems(yaml('version: 1', 'rollout:', '  pause: -1', ...HOSTS))[0]).toMatch(/^3:10: rollout.pause/);
  });
});

describe('parseWaveSize', () => {
  it.each<[number | string, ReturnType<typeof parseWaveSize>]>([
    [2, { hosts: 2 }],
    ['2', { hosts: 2 }],
    ['25%', { percent: 25 }],
    ['100%', { percent: 100 }],
    [' 10% ', { percent: 10 }],
    [0, undefined],
    ['0%', undefined],
    ['101%', undefined],
    ['1.5', undefined],
    ['-1', undefined],
    ['many', undefined],
    ['', undefined],
  ])('%j', (value, expected) => {
    expect(parseWaveSize(value)).toEqual(expected);
  });
});
