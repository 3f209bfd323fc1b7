/**
 * The examples' processors read record data through schemas, typed by inference: no type assertion (`as`, `<T>`)
 * and no non-null assertion (`!`) anywhere in them. Their type check is the examples' own (`npx tsc` here for the
 * README example, `npm test` in examples/checkout, which test/package/consumer.test.ts runs).
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');
const PROCESSOR_FILES = ['examples/custom-processor.ts', 'examples/checkout/src/processors.ts'];

/** Every assertion in a TypeScript source, as `file:line text`. */
function assertionsIn(path: string, source: string): string[] {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node)) {
      found.push(`${relative(root, path)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('the example processors', () => {
  it.each(PROCESSOR_FILES)('%s assert no types', (path) => {
    const full = resolve(root, path);
    expect(assertionsIn(full, readFileSync(full, 'utf8'))).toEqual([]);
  });

  it('would be caught asserting one', () => {
    expect(assertionsIn(resolve(root, 'x.ts'), 'const total = (record.payload.json() as { total: number }).total;\nconst x = y!;')).toEqual([
      'x.ts:1 record.payload.json() as { total: number }',
      'x.ts:2 y!',
    ]);
  });
});
