// The documentation check run by `npm test`:
//  1. TypeDoc's own validation, as errors: every exported declaration and member has TSDoc,
//     every {@link} resolves, nothing public refers to something unexported.
//  2. Every exported declaration carries `@since <CONTRACT_VERSION>`.
// It fails (exit 1) listing each offender, so removing a comment or a tag breaks the build.
//
// Usage: node scripts/check-docs.mjs            (the entry points of typedoc.json)
//        node scripts/check-docs.mjs file.ts…   (the test of this check, on its fixtures)
import { Application, ReflectionKind } from 'typedoc';
import { readFileSync } from 'node:fs';

const expectedSince = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).contractVersion;

const entryPoints = process.argv.slice(2);
const overrides =
  entryPoints.length > 0 ? { entryPoints, options: 'test/fixtures/docs/typedoc.json' } : {};
const app = await Application.bootstrapWithPlugins(overrides);
const project = await app.convert();
if (!project) {
  console.error('docs: TypeDoc could not convert the project');
  process.exit(1);
}
app.validate(project);

const problems = [];
const topLevelKinds = ReflectionKind.Project | ReflectionKind.Module;
for (const reflection of Object.values(project.reflections)) {
  const parentKind = reflection.parent?.kind ?? 0;
  const isTopLevelExport =
    (parentKind & topLevelKinds) !== 0 &&
    !reflection.kindOf(ReflectionKind.Module | ReflectionKind.Reference);
  if (!isTopLevelExport) continue;
  const comment = reflection.comment ?? reflection.signatures?.[0]?.comment;
  const since = comment?.blockTags.find((tag) => tag.tag === '@since');
  const sinceText = since?.content
    .map((part) => part.text)
    .join('')
    .trim();
  if (sinceText !== expectedSince) {
    problems.push(
      `${reflection.getFriendlyFullName()}: ${since ? `@since is '${sinceText}'` : 'no @since tag'} (expected @since ${expectedSince})`,
    );
  }
}

for (const problem of problems) console.error(`docs: ${problem}`);
const typedocFailed = app.logger.hasErrors() || app.logger.hasWarnings();
if (typedocFailed || problems.length > 0) {
  console.error(
    `docs: check failed (${problems.length} @since problems${typedocFailed ? ', TypeDoc validation errors above' : ''})`,
  );
  process.exit(1);
}
console.log(`docs: every export documented and tagged @since ${expectedSince}`);
