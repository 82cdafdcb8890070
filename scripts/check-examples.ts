/**
 * Type-checks every `@example` in the doc comments of `src/**\/*.ts`, so an example cannot
 * drift away from the code it shows. Run with `npx tsx scripts/check-examples.ts`; it exits 1
 * naming the source file and line of each example that does not compile, 0 when all do.
 *
 * How an example becomes a module:
 * - Its text is the lines after `@example` up to the next tag or the end of the comment, with
 *   the leading ` * ` removed; a fenced block (```ts … ```) may wrap it.
 * - It is compiled as an ES module of its own, so top-level `await` works.
 * - `import … from 'ferry'` means the package's source entry, `src/index.ts`: that is what a
 *   user imports.
 * - Any name the example uses without importing it is imported for it: from `src/index.ts` when
 *   the package exports it, otherwise from the file the example documents (what it exports, or
 *   imports, means there what it means in that file), otherwise from the one module of `src/`
 *   that exports that name (an internal function's example shows how
 *   Ferry's own code calls it, with Ferry's own types).
 * - Everything else the example needs is declared in its first lines, one per line, as
 *   `declare const name: Type;` (or `declare function name(…): Type;`). Those lines are part of
 *   the example: they tell the reader what the free variables are.
 *
 * The modules are written to `.scratch/` (ignored by git) and checked with `tsc --noEmit`
 * under the project's own compiler options (strict, noUncheckedIndexedAccess,
 * verbatimModuleSyntax).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(repoRoot, 'src');
const entry = path.join(srcDir, 'index.ts');

interface Example {
  /** The source file, relative to the repository. */
  readonly file: string;
  /** The line of `@example` in that file, 1-based. */
  readonly line: number;
  /** The line in the source file where the example's first line of code stands. */
  readonly firstCodeLine: number;
  readonly code: string;
}

/** Every `@example` block in the doc comments of one file. */
function examplesOf(file: string): Example[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i]!)) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const text = lines[j]!;
      if (/^\s*\*\//.test(text) || /^\s*\*\s*@\w+/.test(text)) break;
      body.push(text.replace(/^\s*\* ?/, ''));
    }
    const fenced = body.filter((l) => !/^\s*```/.test(l));
    found.push({
      file: path.relative(repoRoot, file),
      line: i + 1,
      firstCodeLine: i + 2 + body.findIndex((l) => !/^\s*```/.test(l)),
      code: fenced.join('\n').trimEnd(),
    });
    i = j - 1;
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return ts.sys
    .readDirectory(dir, ['.ts'], undefined, undefined)
    .filter((f) => !f.endsWith('.d.ts'))
    .sort();
}

interface Exported {
  /** Whether the name is a value (a class, function, constant), not only a type. */
  readonly value: boolean;
  /** The file that declares it, where a re-export leads. */
  readonly declaredIn: string | undefined;
}

/** The names a module exports. */
function exportsOf(checker: ts.TypeChecker, program: ts.Program, file: string): Map<string, Exported> {
  const source = program.getSourceFile(file);
  const symbol = source && checker.getSymbolAtLocation(source);
  const names = new Map<string, Exported>();
  if (!symbol) return names;
  for (const exported of checker.getExportsOfModule(symbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaredIn = target.declarations?.[0]?.getSourceFile().fileName;
    names.set(exported.name, { value: (target.flags & ts.SymbolFlags.Value) !== 0, declaredIn });
  }
  return names;
}

/** The names a module imports from other modules of src/, each with the module it comes from. */
function importsOf(
  checker: ts.TypeChecker,
  program: ts.Program,
  file: string,
): Map<string, Exported & { readonly from: string }> {
  const names = new Map<string, Exported & { readonly from: string }>();
  const source = program.getSourceFile(file);
  if (!source) return names;
  for (const statement of source.statements) {
    const bindings = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : undefined;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      const symbol = checker.getSymbolAtLocation(element.name);
      const target =
        symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const from = target?.declarations?.[0]?.getSourceFile().fileName;
      if (target && from?.startsWith(srcDir))
        names.set(element.name.text, {
          value: (target.flags & ts.SymbolFlags.Value) !== 0,
          declaredIn: from,
          from,
        });
    }
  }
  return names;
}

/** Names an example declares or imports at its top level: those must not be imported again. */
function topLevelNames(code: string): Set<string> {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const addBinding = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement))
      for (const d of statement.declarationList.declarations) addBinding(d.name);
    else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    )
      names.add(statement.name.text);
    else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) names.add(e.name.text);
    }
  }
  return names;
}

function identifiersIn(code: string): Set<string> {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      // `a.b` and `{ b: 1 }` name a property, not a binding in scope.
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node);
      if (!isPropertyName) names.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** Syntax errors of an example on its own, with the source file's line numbers. */
function syntaxErrors(example: Example): string[] {
  const source = ts.createSourceFile('example.ts', example.code, ts.ScriptTarget.Latest, true);
  const diagnostics = (source as unknown as { parseDiagnostics: readonly ts.Diagnostic[] }).parseDiagnostics;
  return diagnostics.map((d) => {
    const { line } = source.getLineAndCharacterOfPosition(d.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    return `line ${example.firstCodeLine + line}: TS${d.code}: ${message}`;
  });
}

function importPath(from: string, to: string): string {
  const relative = path.relative(path.dirname(from), to).replace(/\.ts$/, '.js');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

function importLine(names: Map<string, boolean>, from: string, module: string): string | undefined {
  if (names.size === 0) return undefined;
  const list = [...names].sort(([a], [b]) => a.localeCompare(b)).map(([n, v]) => (v ? n : `type ${n}`));
  return `import { ${list.join(', ')} } from '${importPath(from, module)}';`;
}

function main(): number {
  const files = sourceFiles(srcDir);
  const examples = files.flatMap(examplesOf);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const entryExports = exportsOf(checker, program, entry);
  const fileExports = new Map(files.map((f) => [f, exportsOf(checker, program, f)] as const));
  // A name exported by exactly one module of src/ is unambiguous; the others need an import.
  const exporters = new Map<string, Map<string, boolean>>();
  for (const names of fileExports.values())
    for (const [name, { value, declaredIn }] of names)
      if (declaredIn?.startsWith(srcDir))
        exporters.set(name, (exporters.get(name) ?? new Map()).set(declaredIn, value));

  // A name the documented file imports means, in its example, what it means in that file.
  const importedBy = new Map(files.map((f) => [f, importsOf(checker, program, f)] as const));

  mkdirSync(path.join(repoRoot, '.scratch'), { recursive: true });
  const dir = mkdtempSync(path.join(repoRoot, '.scratch', 'examples-'));
  try {
    const written = new Map<string, Example>();
    // tsc reports no type errors at all while any file has a syntax error, so an example that
    // does not parse is reported here and left out of the tsc run.
    const failures = new Map<Example, string[]>();
    const parsed = examples.filter((example) => {
      const errors = syntaxErrors(example);
      if (errors.length > 0) failures.set(example, errors);
      return errors.length === 0;
    });
    parsed.forEach((example, n) => {
      const out = path.join(dir, `example-${String(n).padStart(3, '0')}.ts`);
      const documented = path.join(repoRoot, example.file);
      const declared = topLevelNames(example.code);
      const imports = new Map<string, Map<string, boolean>>();
      const use = (module: string, name: string, value: boolean) =>
        imports.set(module, (imports.get(module) ?? new Map()).set(name, value));
      for (const name of identifiersIn(example.code)) {
        if (declared.has(name)) continue;
        const inEntry = entryExports.get(name);
        const exportedHere = fileExports.get(documented)?.get(name);
        const importedHere = importedBy.get(documented)?.get(name);
        const only = exporters.get(name);
        if (inEntry !== undefined) use(entry, name, inEntry.value);
        else if (exportedHere !== undefined) use(documented, name, exportedHere.value);
        else if (importedHere !== undefined) use(importedHere.from, name, importedHere.value);
        else if (only?.size === 1) {
          const [[module, value]] = [...only] as [[string, boolean]];
          use(module, name, value);
        }
      }
      const code = example.code.replace(/from ['"]ferry['"]/g, `from '${importPath(out, entry)}'`);
      const header = [
        ...[...imports].map(([module, names]) => importLine(names, out, module)),
        'export {};',
      ].filter((l): l is string => l !== undefined);
      // The example's own first line stays on line `header.length + 1`, for error positions.
      writeFileSync(out, `${header.join(' ')}\n${code}\n`);
      written.set(out, example);
    });
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: path.join(repoRoot, 'tsconfig.json'),
        compilerOptions: { noEmit: true, declaration: false, sourceMap: false },
        include: ['*.ts'],
      }),
    );
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', dir], {
      encoding: 'utf8',
    });
    for (const line of `${run.stdout}${run.stderr}`.split('\n')) {
      const m = line.match(/^(.*?)\((\d+),(\d+)\): error (TS\d+: .*)$/);
      if (!m) continue;
      const example = written.get(path.resolve(repoRoot, m[1]!)) ?? written.get(path.resolve(dir, m[1]!));
      if (!example) {
        // An error outside the examples (in src itself) is reported as it is.
        failures.set({ file: m[1]!, line: Number(m[2]), firstCodeLine: 0, code: '' }, [m[4]!]);
        continue;
      }
      const sourceLine = example.firstCodeLine + Number(m[2]) - 2;
      const list = failures.get(example) ?? [];
      list.push(`line ${sourceLine}: ${m[4]}`);
      failures.set(example, list);
    }
    if (failures.size === 0 && run.status !== 0) {
      process.stderr.write(
        `check-examples: tsc failed without a readable error:\n${run.stdout}${run.stderr}`,
      );
      return 1;
    }
    for (const [example, errors] of failures) {
      process.stderr.write(`${example.file}:${example.line}: @example does not type-check\n`);
      for (const e of errors) process.stderr.write(`    ${e}\n`);
    }
    const checked = examples.length - failures.size;
    process.stdout.write(`check-examples: ${checked} of ${examples.length} examples type-check\n`);
    return failures.size === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exit(main());
