const SECRET_PARAMS = ['access_token', 'corpsecret'];

/** The URL as it may appear in logs and errors: the credentials in the query string are masked. */
export function redactUrl(url: string): string {
  return SECRET_PARAMS.reduce(
    (text, param) => text.replace(new RegExp(`([?&]${param}=)[^&#\\s]*`, 'g'), '$1[redacted]'),
    url,
  );
}

/** Error text from lower layers (fetch, undici) may quote the URL; mask it the same way. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = redactUrl(text);
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}
