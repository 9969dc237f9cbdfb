/** A field value as WeCom writes it: strings in CDATA, numbers bare, lists as <Item> children. */
export type XmlValue = string | number | readonly string[];

export function cdata(text: string): string {
  // "]]>" cannot appear inside CDATA; split it across two sections.
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

export function xmlElement(name: string, value: XmlValue): string {
  if (typeof value === 'number') return `<${name}>${value}</${name}>`;
  if (typeof value === 'string') return `<${name}>${cdata(value)}</${name}>`;
  return `<${name}>${value.map((item) => `<Item>${cdata(item)}</Item>`).join('')}</${name}>`;
}
