import { describe, expect, it } from 'vitest';
import { routeFor } from '../../src/conversations/routing.js';

describe('routeFor', () => {
  it.each([
    // class route wins over every mode
    [{ route: 'human', priority: 'low' }, 'autonomous', 'human'],
    [{ route: 'ai', priority: 'high' }, 'priority', 'ai'],
    [{ route: 'hybrid', priority: 'normal' }, 'autonomous', 'hybrid'],
    // no class route: automation_mode decides
    [{ priority: 'normal' }, 'autonomous', 'ai'],
    [{ priority: 'high' }, 'autonomous', 'ai'],
    [{ priority: 'normal' }, 'assisted', 'hybrid'],
    [{ priority: 'high' }, 'assisted', 'hybrid'],
    [{ priority: 'high' }, 'priority', 'human'],
    [{ priority: 'normal' }, 'priority', 'ai'],
    [{ priority: 'low' }, 'priority', 'ai'],
  ] as const)('%j in %s mode → %s', (cls, mode, expected) => {
    expect(routeFor(cls, mode)).toBe(expected);
  });
});
