/**
 * Owns keeping registration tokens out of everything printed or logged: a secret becomes its first few characters
 * and its length, and any JWT-shaped substring of a text is masked the same way.
 */

/** A value shaped like a JWT: three base64url segments (padding tolerated). Full validation happens at registration. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}$/;

/**
 * A real JWT inside free text: its header is base64url JSON, so it starts with `eyJ` (`{"`). Requiring that keeps
 * host names like `MP01.CONTOSO.COM`, which have the same dotted shape, readable.
 */
const JWT_IN_TEXT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]*={0,2}(?![A-Za-z0-9_=-])/g;

export function isJwtShaped(value: string): boolean {
  return JWT_SHAPE.test(value);
}

/**
 * `eyJ0eXAi…(812 chars)`: at most 8 leading characters, fewer for short values, and never a whole dot-separated
 * segment, so no part of the token can be recovered from what is shown.
 */
export function maskSecret(value: string): string {
  const firstSegment = value.indexOf('.') >= 0 ? value.indexOf('.') : value.length;
  const shown = Math.max(0, Math.min(8, Math.floor(value.length / 4), firstSegment - 1));
  return `${value.slice(0, shown)}…(${value.length} chars)`;
}

/** Masks every JWT-shaped substring of `text`. */
export function maskJwtsIn(text: string): string {
  return text.replace(JWT_IN_TEXT, (jwt) => maskSecret(jwt));
}

/** Masks the given secrets wherever they occur (longest first), then every JWT-shaped substring. */
export function maskSecretsIn(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join(maskSecret(s));
  }
  return maskJwtsIn(out);
}
