// Lints an OpenAPI document with Redocly's library and the rules of
// redocly.yaml beside this file; prints each problem with its line, and
// exits 1 on any error or warning.
//
// usage: node lint.mjs SPEC
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { formatProblems, getTotals, lint, loadConfig }
    from '@redocly/openapi-core';

const spec = process.argv[2];
if (!spec || process.argv.length !== 3) {
	console.error('usage: node lint.mjs SPEC');
	process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const config = await loadConfig({ configPath: join(here, 'redocly.yaml') });
const problems = await lint({ ref: spec, config });
const totals = getTotals(problems);
formatProblems(problems, {
	format: 'stylish', totals, version: '', maxProblems: 1000, color: false,
});
// On stderr, where the problems went, so that it comes after them.
console.error(`${spec}: ${totals.errors} errors, ${totals.warnings} warnings`);
process.exit(totals.errors + totals.warnings > 0 ? 1 : 0);
