/**
 * A strict little XML parser for tests: enough of XML 1.0 to read back what the JUnit renderer writes
 * (declaration, elements, attributes, text, the five entities and character references) and to reject
 * anything that is not well-formed, with the offset of the problem. No DTDs, CDATA or namespaces.
 * @module
 */

/** A parsed element. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text content directly inside this element (entities decoded). */
  text: string;
}

/** Thrown for input that is not well-formed. */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "XmlSyntaxError";
  }
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function isNameChar(c: string, first: boolean): boolean {
  const code = c.charCodeAt(0);
  const letter =
    (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || c === "_" || c === ":" || code > 127;
  if (first) return letter;
  return letter || (code >= 48 && code <= 57) || c === "-" || c === ".";
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd)
  );
}

/** Parses a document and returns its root element. */
export function parseXml(input: string): XmlElement {
  let i = 0;
  const fail = (message: string): never => {
    throw new XmlSyntaxError(message, i);
  };
  for (let k = 0; k < input.length; k++) {
    const code = input.charCodeAt(k);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = input.charCodeAt(k + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        k++;
        continue;
      }
    }
    if (!isXmlChar(code)) {
      i = k;
      fail(`character U+${code.toString(16).padStart(4, "0")} is not allowed in XML`);
    }
  }
  const skipSpace = () => {
    while (i < input.length && " \t\r\n".includes(input[i]!)) i++;
  };
  const expect = (s: string) => {
    if (!input.startsWith(s, i)) fail(`expected '${s}'`);
    i += s.length;
  };
  const name = (): string => {
    const start = i;
    if (i >= input.length || !isNameChar(input[i]!, true)) fail("expected a name");
    while (i < input.length && isNameChar(input[i]!, false)) i++;
    return input.slice(start, i);
  };
  const reference = (): string => {
    expect("&");
    const end = input.indexOf(";", i);
    if (end < 0 || end - i > 10) fail("unterminated entity reference");
    const body = input.slice(i, end);
    i = end + 1;
    if (body.startsWith("#x")) {
      const code = Number.parseInt(body.slice(2), 16);
      if (Number.isNaN(code) || !isXmlChar(code)) fail(`bad character reference &${body};`);
      return String.fromCodePoint(code);
    }
    if (body.startsWith("#")) {
      const code = Number.parseInt(body.slice(1), 10);
      if (Number.isNaN(code) || !isXmlChar(code)) fail(`bad character reference &${body};`);
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[body];
    if (value === undefined) fail(`unknown entity &${body};`);
    return value!;
  };
  const attributeValue = (): string => {
    const quote = input[i];
    if (quote !== '"' && quote !== "'") fail("expected a quoted attribute value");
    i++;
    let value = "";
    while (input[i] !== quote) {
      if (i >= input.length) fail("unterminated attribute value");
      const c = input[i]!;
      if (c === "<") fail("'<' in an attribute value");
      if (c === "&") value += reference();
      else {
        // Literal whitespace in attributes is normalised to a space (XML 1.0 §3.3.3).
        value += "\t\n\r".includes(c) ? " " : c;
        i++;
      }
    }
    i++;
    return value;
  };
  const element = (): XmlElement => {
    expect("<");
    const tag = name();
    const el: XmlElement = { name: tag, attributes: {}, children: [], text: "" };
    for (;;) {
      const before = i;
      skipSpace();
      if (input.startsWith("/>", i)) {
        i += 2;
        return el;
      }
      if (input[i] === ">") {
        i++;
        break;
      }
      if (i === before) fail("expected whitespace before an attribute");
      const key = name();
      skipSpace();
      expect("=");
      skipSpace();
      if (key in el.attributes) fail(`duplicate attribute '${key}'`);
      el.attributes[key] = attributeValue();
    }
    for (;;) {
      if (i >= input.length) fail(`unclosed element <${tag}>`);
      if (input.startsWith("</", i)) {
        i += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        skipSpace();
        expect(">");
        return el;
      }
      if (input.startsWith("<!--", i)) {
        const end = input.indexOf("-->", i + 4);
        if (end < 0) fail("unterminated comment");
        i = end + 3;
      } else if (input[i] === "<") el.children.push(element());
      else if (input[i] === "&") el.text += reference();
      else {
        if (input.startsWith("]]>", i)) fail("']]>' in text");
        el.text += input[i];
        i++;
      }
    }
  };
  if (input.startsWith("<?xml", i)) {
    const end = input.indexOf("?>", i);
    if (end < 0) fail("unterminated XML declaration");
    i = end + 2;
  }
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== input.length) fail("content after the root element");
  return root;
}

/** All descendants (depth first) named `name`. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (el: XmlElement) => {
    for (const child of el.children) {
      if (child.name === name) out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}
