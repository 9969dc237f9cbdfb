import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CallbackRejected } from './crypto.ts';

const parser = new XMLParser({
  // Entities are never expanded: together with the DOCTYPE check this closes XXE and billion-laughs.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignoreAttributes: true,
  // Every leaf stays a string: ids like MsgId exceed 2^53 and must not become numbers.
  parseTagValue: false,
  trimValues: false,
  cdataPropName: false,
});

export type XmlFields = { [name: string]: string | XmlFields | XmlFields[] | string[] };

/** Parses a WeCom `<xml>…</xml>` document into its fields, refusing anything that could smuggle entities. */
export function parseWecomXml(text: string): XmlFields {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new CallbackRejected('forbidden_xml', 'XML with a DOCTYPE or entity declaration is refused');
  }
  if (XMLValidator.validate(text) !== true) {
    throw new CallbackRejected('malformed_xml', 'body is not well-formed XML');
  }
  const doc = parser.parse(text) as { xml?: unknown };
  if (typeof doc.xml !== 'object' || doc.xml === null || Array.isArray(doc.xml)) {
    throw new CallbackRejected('malformed_xml', 'expected a single <xml> root element');
  }
  return doc.xml as XmlFields;
}

/** A field that must be text, or undefined when absent. */
export function textField(fields: XmlFields, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' ? value : undefined;
}
