import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkXml } from './xml.js';

test('xml: accepts well-formed documents and names the root', () => {
  assert.deepEqual(
    checkXml(
      '<?xml version="1.0"?>\n<svg a="1" b=\'&amp;\'><g><rect/></g><!-- c --><t>x &lt; y &#38;</t></svg>\n',
    ),
    {
      ok: true,
      root: 'svg',
    },
  );
});

test('xml: rejects what is not well-formed', () => {
  for (const bad of [
    '',
    'text',
    '<svg>',
    '<svg></g>',
    '<svg><g></svg></g>',
    '<svg a=1/>',
    '<svg a="1" a="2"/>',
    '<svg>a & b</svg>',
    '<svg>a < b</svg>',
    '<svg/><svg/>',
    '<svg/>trailing',
    '<svg a="<"/>',
  ]) {
    assert.equal(checkXml(bad).ok, false, bad);
  }
});
