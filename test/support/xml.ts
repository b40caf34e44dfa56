/**
 * Reading XML in tests (the gate's JUnit reports) with htmlparser2 in XML mode, strictly: an element
 * closed by implication (a missing or mismatched end tag), a stray end tag, an undeclared entity or a
 * character XML 1.0 does not allow fails the parse instead of being repaired.
 */
import { Parser } from 'htmlparser2';

/** An element: its name, attributes (entities decoded), child elements and text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);
const NOT_XML_CHAR =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Parses a whole document; throws on anything not well-formed. */
export function parseXml(xml: string): XmlElement {
  if (NOT_XML_CHAR.test(xml)) throw new Error('a character XML 1.0 does not allow');
  for (const m of xml.matchAll(/&([^;\s<>&]*);?/g)) {
    const ref = m[1]!;
    const ok =
      m[0].endsWith(';') && (XML_ENTITIES.has(ref) || /^#\d+$/.test(ref) || /^#x[0-9a-f]+$/i.test(ref));
    if (!ok) throw new Error(`not an XML entity reference: ${m[0]}`);
  }
  // An attribute value holding "<" is not well-formed (htmlparser2 would take it).
  for (const m of xml.matchAll(/="([^"]*)"/g))
    if (m[1]!.includes('<')) throw new Error(`"<" in an attribute: ${m[0]}`);
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const problems: string[] = [];
  let ends = 0;
  const parser: Parser = new Parser(
    {
      onopentag(name, attrs) {
        const el: XmlElement = { name, attrs, children: [], text: '' };
        stack.at(-1)!.children.push(el);
        stack.push(el);
      },
      onclosetag(name, isImplied) {
        const open = stack.pop();
        // A self-closing tag counts as implied too: tell it by its source.
        const selfClosing = isImplied && xml.slice(parser.startIndex, parser.endIndex + 1).endsWith('/>');
        if (!isImplied) ends++;
        if (isImplied && !selfClosing) problems.push(`<${name}> has no end tag`);
        else if (open?.name !== name) problems.push(`</${name}> ends <${open?.name}>`);
      },
      ontext(text) {
        stack.at(-1)!.text += text;
      },
      onerror(err) {
        problems.push(err.message);
      },
    },
    { xmlMode: true, decodeEntities: true, recognizeSelfClosing: true },
  );
  parser.write(xml);
  parser.end();
  if (stack.length !== 1) problems.push(`<${stack.at(-1)!.name}> is not closed`);
  // An end tag that closes nothing is dropped by the parser without a word: count them.
  if (ends !== (xml.match(/<\//g) ?? []).length) problems.push('an end tag closes no element');
  if (problems.length > 0) throw new Error(`not well-formed XML: ${problems.join('; ')}`);
  const elements = root.children;
  if (elements.length !== 1) throw new Error(`a document has one root element, not ${elements.length}`);
  if (root.text.replace(/<\?xml[^>]*\?>/, '').trim() !== '') throw new Error('text outside the root element');
  return elements[0]!;
}

/** Every element named `name` under `el`, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}
