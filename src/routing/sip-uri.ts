/**
 * The SIP URI pattern of the `sip` package's parseUri, for the per-call paths that read only the
 * user and host: parseUri also builds params and headers objects, which was most of its cost on
 * every call. Group 2 is the user, group 4 the host, exactly as parseUri reads them.
 */
export const SIP_URI = /^(sips?):(?:([^\s>:@]+)(?::([^\s@>]+))?@)?([\w\-\.]+)(?::(\d+))?((?:;[^\s=\?>;]+(?:=[^\s?\;]+)?)*)(?:\?(([^\s&=>]+=[^\s&=>]+)(&[^\s&=>]+=[^\s&=>]+)*))?$/

/** parseUri(uri)?.user and ?.host, without the rest; undefined when parseUri would give undefined. */
export function sipUserHost (uri: string): { user: string | undefined, host: string } | undefined {
  const match = SIP_URI.exec(uri)
  return match === null ? undefined : { user: match[2], host: match[4] as string }
}
