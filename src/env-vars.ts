/** Parsers for environment variables, shared by every config module: each adds what is wrong to `problems`. */

export type Env = Readonly<Record<string, string | undefined>>

/** One documented variable: every entry has a row in the README's configuration table (test/docs.test.ts). */
export interface VarSpec {
  readonly name: string
  readonly default: string
  readonly meaning: string
}

/** The trimmed value, or undefined when unset or blank. */
export function present (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

export function intVar (env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`)
    return fallback
  }
  return value
}

export function boolVar (env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = present(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  if (['0', 'false', 'no', 'off'].includes(raw)) return false
  problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`)
  return fallback
}

/** A comma-separated list, blanks dropped. */
export const listVar = (env: Env, name: string): string[] =>
  (env[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')
