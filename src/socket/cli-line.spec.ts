import { describe, expect, it } from 'vitest';
import { parseWeight } from './cli-commands.js';
import { splitLine } from './cli-line.js';

describe('splitLine', () => {
  it('splits commands on `;` and words on spaces and tabs, as HAProxy does', () => {
    expect(splitLine('show stat')).toEqual([['show', 'stat']]);
    expect(splitLine('get  weight\tbe/s1\r')).toEqual([['get', 'weight', 'be/s1']]);
    expect(splitLine('get weight be/s1 ; ; show backend')).toEqual([
      ['get', 'weight', 'be/s1'],
      [],
      ['show', 'backend'],
    ]);
    expect(splitLine('')).toEqual([[]]);
  });

  it('takes a backslash-escaped `;` or space as part of the word', () => {
    expect(splitLine('get weight be\\;s1')).toEqual([['get', 'weight', 'be;s1']]);
    expect(splitLine('a\\ b c\\\\')).toEqual([['a b', 'c\\']]);
  });
});

describe('parseWeight', () => {
  it('reads absolute and relative weights with HAProxy’s checks', () => {
    expect(parseWeight('0', 4)).toBe(0);
    expect(parseWeight('256', 4)).toBe(256);
    expect(parseWeight('50%', 4)).toBe(2);
    expect(parseWeight('100000%', 4)).toBe(256);
    expect(parseWeight(undefined, 4)).toEqual({ text: 'Require <weight> or <weight%>.\n' });
    expect(parseWeight('257', 4)).toEqual({
      text: 'Absolute weight can only be between 0 and 256 inclusive.\n',
    });
    expect(parseWeight('-1%', 4)).toEqual({ text: 'Relative weight must be positive.\n' });
    expect(parseWeight('x', 4)).toMatchObject({ unterminated: true });
    expect(parseWeight('1x', 4)).toMatchObject({ unterminated: true });
  });
});
