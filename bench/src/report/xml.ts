/**
 * A strict well-formedness check for the XML this package writes (SVG charts): one root element, tags
 * that nest and close, quoted attributes that do not repeat, known entities, nothing but whitespace,
 * comments and processing instructions outside the root. Not a validating parser: no DTDs.
 */

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/;

/** Checks that character data has no `<` and only known entities. */
function checkText(text: string, at: number): string | null {
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (!ENTITY.test(text.slice(i))) return `unknown or unterminated entity at ${at + i}`;
  }
  return null;
}

/** Result of {@link checkXml}: the root element's name, or what is wrong and where. */
export type XmlCheck =
  | { readonly ok: true; readonly root: string }
  | { readonly ok: false; readonly error: string };

/** Checks that `xml` is a well-formed XML document. */
export function checkXml(xml: string): XmlCheck {
  const fail = (error: string): XmlCheck => ({ ok: false, error });
  const stack: string[] = [];
  let root: string | null = null;
  let closedRoot = false;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (text.length > 0) {
      if (stack.length === 0 && text.trim() !== '') return fail(`text outside the root element at ${i}`);
      const bad = checkText(text, i);
      if (bad !== null) return fail(bad);
    }
    if (lt === -1) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end === -1) return fail(`unterminated comment at ${i}`);
      i = end + 3;
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end === -1) return fail(`unterminated processing instruction at ${i}`);
      if (xml.startsWith('<?xml', i) && i !== 0) return fail('XML declaration not at the start');
      i = end + 2;
    } else if (xml.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) return fail(`CDATA outside the root element at ${i}`);
      const end = xml.indexOf(']]>', i);
      if (end === -1) return fail(`unterminated CDATA at ${i}`);
      i = end + 3;
    } else if (xml.startsWith('<!', i)) {
      return fail(`unsupported declaration at ${i}`);
    } else if (xml.startsWith('</', i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0];
      if (name === undefined) return fail(`bad closing tag at ${i}`);
      const end = i + 2 + name.length;
      const gt = xml.indexOf('>', end);
      if (gt === -1 || xml.slice(end, gt).trim() !== '') return fail(`bad closing tag </${name} at ${i}`);
      const open = stack.pop();
      if (open !== name) return fail(`</${name}> at ${i} closes <${open ?? 'nothing'}>`);
      if (stack.length === 0) closedRoot = true;
      i = gt + 1;
    } else {
      const name = NAME.exec(xml.slice(i + 1))?.[0];
      if (name === undefined) return fail(`bad tag at ${i}`);
      if (stack.length === 0) {
        if (closedRoot || root !== null) return fail(`second root element <${name}> at ${i}`);
        root = name;
      }
      let j = i + 1 + name.length;
      const seen = new Set<string>();
      for (;;) {
        const ws = /^\s*/.exec(xml.slice(j))![0].length;
        j += ws;
        if (xml.startsWith('/>', j)) {
          j += 2;
          if (stack.length === 0) closedRoot = true;
          break;
        }
        if (xml[j] === '>') {
          j += 1;
          stack.push(name);
          break;
        }
        if (ws === 0) return fail(`expected whitespace, '>' or '/>' in <${name}> at ${j}`);
        const attr = NAME.exec(xml.slice(j))?.[0];
        if (attr === undefined) return fail(`bad attribute in <${name}> at ${j}`);
        if (seen.has(attr)) return fail(`repeated attribute ${attr} in <${name}> at ${j}`);
        seen.add(attr);
        j += attr.length;
        const eq = /^\s*=\s*/.exec(xml.slice(j));
        if (eq === null) return fail(`attribute ${attr} without a value at ${j}`);
        j += eq[0].length;
        const quote = xml[j];
        if (quote !== '"' && quote !== "'") return fail(`unquoted attribute ${attr} at ${j}`);
        const close = xml.indexOf(quote, j + 1);
        if (close === -1) return fail(`unterminated attribute ${attr} at ${j}`);
        const value = xml.slice(j + 1, close);
        if (value.includes('<')) return fail(`'<' in attribute ${attr} at ${j}`);
        const bad = checkText(value, j + 1);
        if (bad !== null) return fail(bad);
        j = close + 1;
      }
      i = j;
    }
  }
  if (stack.length > 0) return fail(`<${stack[stack.length - 1]}> is never closed`);
  if (root === null) return fail('no root element');
  return { ok: true, root };
}
