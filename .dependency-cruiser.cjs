/**
 * The layering of DESIGN.md, checked on every test run: imports point down only.
 *   contracts <- core <- runtime <- implementations (inmemory, testing, ...) <- agent, cli
 */
const layers = {
  contracts: ['^src/contracts/'],
  core: ['^src/contracts/', '^src/core/'],
  runtime: ['^src/contracts/', '^src/core/', '^src/runtime/'],
};
const implementationFolders = '^src/(inmemory|loadbalancing|testing|native|governance|adapters)/';

module.exports = {
  forbidden: [
    {
      name: 'contracts-import-only-contracts',
      comment: 'contracts/ is the bottom layer: types and tiny factories only',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^src/', pathNot: layers.contracts },
    },
    {
      name: 'contracts-have-no-runtime-dependencies',
      comment: 'contracts/ must not depend on npm packages or Node built-ins',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'core'] },
    },
    {
      name: 'core-imports-only-contracts-and-core',
      comment: 'core/ is pure: it may not reach runtime, implementations or the agent',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: layers.core },
    },
    {
      name: 'core-has-no-io',
      comment: 'core/ is deterministic and free of I/O: no Node built-ins',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-has-no-npm-dependencies',
      comment: 'core/ is pure TypeScript: no npm packages',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'] },
    },
    {
      name: 'only-tests-use-the-compliance-suites',
      comment: 'src/testing/ pulls in Vitest; nothing that ships to production may import it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'runtime-imports-down-only',
      severity: 'error',
      from: { path: '^src/runtime/' },
      to: { path: '^src/', pathNot: layers.runtime },
    },
    {
      name: 'implementations-do-not-import-agent-or-cli',
      severity: 'error',
      from: { path: implementationFolders },
      to: { path: '^src/(agent|cli)/' },
    },
    {
      name: 'agent-does-not-import-cli',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
