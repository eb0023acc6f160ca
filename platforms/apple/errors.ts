/**
 * An Apple device's ErrorChain (a command's `Error` answer) as one sentence for people: each entry's
 * LocalizedDescription, most general first, with its domain and code so support can look it up.
 */
export function appleErrorText(errorChain: unknown): string | undefined {
  if (!Array.isArray(errorChain) || errorChain.length === 0) return undefined;
  return errorChain
    .map((entry) => {
      const { LocalizedDescription, ErrorDomain, ErrorCode } = (entry ?? {}) as Record<string, unknown>;
      const where = [ErrorDomain, ErrorCode].filter((part) => part !== undefined).join(' ');
      return `${String(LocalizedDescription ?? 'Unknown error')}${where ? ` (${where})` : ''}`;
    })
    .join(' — ');
}
