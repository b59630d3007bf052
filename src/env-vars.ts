/**
 * Settings tables: each module declares its environment variables once (name, type, default,
 * bounds, help text) and gets the parser, the --help lines and the README rows from that one entry.
 */

export type Env = Readonly<Record<string, string | undefined>>

/** One documented variable; the README's configuration table has one row per entry (test/docs.test.ts). */
export interface VarSpec {
  readonly name: string
  /** integer, boolean, text, …: what --help says the value is. */
  readonly type: string
  /** The default as documented; `(unset)` when there is none. */
  readonly default: string
  /** Inclusive bounds of an integer. */
  readonly bounds?: readonly [number, number]
  readonly help: string
}

/** A variable with its parser: adds what is wrong to `problems` (every bad key is reported at once). */
export interface Setting<T> extends VarSpec {
  readonly parse: (env: Env, problems: string[], cwd: string) => T
}

export type SettingsTable = Readonly<Record<string, Setting<unknown>>>

/** The parsed values of a table, by its keys. */
export type SettingsOf<S extends SettingsTable> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never }

/** The trimmed value, or undefined when unset or blank. */
export function present (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** A comma-separated list, blanks dropped. */
export const listVar = (env: Env, name: string): string[] =>
  (env[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')

export function int (name: string, fallback: number, [min, max]: readonly [number, number], help: string): Setting<number> {
  return {
    name,
    type: 'integer',
    default: String(fallback),
    bounds: [min, max],
    help,
    parse (env, problems) {
      const raw = present(env, name)
      if (raw === undefined) return fallback
      const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`)
        return fallback
      }
      return value
    }
  }
}

export function bool (name: string, fallback: boolean, help: string): Setting<boolean> {
  return {
    name,
    type: 'boolean',
    default: String(fallback),
    help,
    parse (env, problems) {
      const raw = present(env, name)?.toLowerCase()
      if (raw === undefined) return fallback
      if (['1', 'true', 'yes', 'on'].includes(raw)) return true
      if (['0', 'false', 'no', 'off'].includes(raw)) return false
      problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`)
      return fallback
    }
  }
}

/** Any text; unset or blank gives the fallback. */
export function text (name: string, fallback: string, help: string): Setting<string> {
  return { name, type: 'text', default: fallback, help, parse: (env) => present(env, name) ?? fallback }
}

/** A variable with its own parser (URLs, lists, paths, names). */
export function custom<T> (spec: VarSpec, parse: Setting<T>['parse']): Setting<T> {
  return { ...spec, parse }
}

/** Parses every variable of a table (each adds its problems), in the table's order; paths resolve against `cwd`. */
export function parseSettings<S extends SettingsTable> (table: S, env: Env, problems: string[], cwd = process.cwd()): SettingsOf<S> {
  const values: Record<string, unknown> = {}
  for (const [key, setting] of Object.entries(table)) values[key] = setting.parse(env, problems, cwd)
  return values as SettingsOf<S>
}
