// neostandard (the Fastify house lint) for src, test, bench, plus the import fences of src/routing
// (docs/architecture.md); test/architecture.test.ts checks the same fences over the import graph.
import neostandard from 'neostandard'

const fence = (files, patterns, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] }
})

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.rtroute/**', 'public/**'] }),
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', ignoreRestSiblings: true, caughtErrors: 'none' }]
    }
  },
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (a timer's work, a reply header).
      'no-void': ['error', { allowAsStatement: true }],
      // Off: the loops here wait on flags that other callbacks set across an await, which this
      // rule cannot see (every finding was one of those).
      'no-unmodified-loop-condition': 'off'
    }
  },
  fence(['src/routing/snapshot/**'], ['**/decide/*', '**/admin/*'], 'snapshot/ imports only the routing root and shared utilities'),
  fence(['src/routing/decide/**'], ['**/admin/*'], 'decide/ never imports admin/'),
  fence(['src/routing/admin/**'], ['**/decide/*'], 'admin/ never imports decide/'),
  fence(['src/routing/*.ts'], ['./snapshot/*', './decide/*', './admin/*'], 'the routing root imports none of its sub-folders'),
  fence(['src/routing/**', 'src/status/**'], ['**/dispatcher/*', '**/observability/*'], 'routing/ and status/ sit below dispatcher/ and observability/'),
  fence(['src/status/**'], ['**/routing/*', '**/routing/**'], 'status/ is the bottom of the domain folders')
]
