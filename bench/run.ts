/**
 * `npm run bench`: runs every bench module (bench/*.ts exporting `run()`), prints the tables and
 * writes them to bench/RESULTS.md with the machine and date. Timings are compared with a floor
 * measured in the same run, never asserted in tests.
 *   npm run bench                 all modules (RESULTS.md rewritten)
 *   npm run bench -- actions      only the named module(s): their tables in RESULTS.md are
 *                                 replaced, every other module's tables are kept as they were
 * Each module's tables sit between <!-- bench:NAME --> and <!-- /bench:NAME --> with the date
 * and machine they were measured on, so engineers can refresh their own section.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release, arch } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchSection } from './section.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'section.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((m) => wanted.length === 0 || wanted.includes(m))
  .sort();

function markdown(s: BenchSection): string {
  const head = `| ${s.columns.join(' | ')} |\n| ${s.columns.map(() => '---').join(' | ')} |`;
  const rows = s.rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
  const notes = (s.notes ?? []).map((n) => `- ${n}`).join('\n');
  return `### ${s.title}\n\n${s.method}\n\n${head}\n${rows}\n${notes ? `\n${notes}\n` : ''}`;
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()} ${arch()}, Node ${process.version}`;
const started = new Date();
const parts: string[] = [];
/** Per module: its block for RESULTS.md and the titles of its tables (to replace unmarked old ones). */
const blocks = new Map<string, { text: string; titles: string[] }>();
let failed = 0;
for (const name of modules) {
  const mine: string[] = [];
  const titles: string[] = [];
  const t0 = performance.now();
  process.stdout.write(`\n== bench/${name}.ts ==\n`);
  try {
    const mod = (await import(pathToFileURL(`${dir}${name}.ts`).href)) as { run?: () => Promise<BenchSection[]> };
    if (typeof mod.run !== 'function') continue;
    for (const section of await mod.run()) {
      const md = markdown(section);
      console.log(md);
      parts.push(md);
      mine.push(md);
      titles.push(section.title);
    }
  } catch (e) {
    failed++;
    const msg = `### bench/${name}.ts failed\n\n\`${(e as Error).message}\`\n`;
    console.error(msg);
    parts.push(msg);
    mine.push(msg);
  }
  blocks.set(name, { text: marked(name, mine.join('\n')), titles });
  console.log(`(bench/${name}.ts took ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

function marked(name: string, body: string): string {
  return `<!-- bench:${name} -->\n_bench/${name}.ts, measured ${new Date().toISOString()} on ${machine}._\n\n${body}<!-- /bench:${name} -->\n`;
}

/** Replaces the module's marked block, or its unmarked tables of the same titles, or appends it. */
function mergeInto(doc: string, name: string, block: { text: string; titles: string[] }): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block.text + doc.slice(j + end.length).replace(/^\n/, '');
  // An older RESULTS.md without markers: drop the sections with the same titles, then append.
  let out = doc;
  for (const title of block.titles) {
    const at = out.indexOf(`### ${title}\n`);
    if (at < 0) continue;
    const next = out.indexOf('\n### ', at + 4);
    const marker = out.indexOf('\n<!-- bench:', at + 4);
    const stop = [next, marker].filter((x) => x >= 0).sort((a, b) => a - b)[0] ?? out.length;
    out = out.slice(0, at) + out.slice(stop + 1);
  }
  return `${out.replace(/\n*$/, '\n\n')}${block.text}`;
}

const resultsUrl = new URL('RESULTS.md', import.meta.url);
if (wanted.length === 0) {
  const doc = `# Benchmark results\n\nMeasured by \`npm run bench\` on ${started.toISOString().slice(0, 10)} (${started.toISOString()}).\nMachine: ${machine}.\n\nEach table compares with a floor measured in the same run; ratios are what to compare between machines. \`npm run bench -- NAME\` refreshes one module's tables (each block says when and where it was measured).\n\n${[...blocks.values()].map((b) => b.text).join('\n')}`;
  writeFileSync(resultsUrl, doc);
  console.log('\nwrote bench/RESULTS.md');
} else {
  let doc = existsSync(resultsUrl) ? readFileSync(resultsUrl, 'utf8') : '# Benchmark results\n\n';
  for (const [name, block] of blocks) doc = mergeInto(doc, name, block);
  writeFileSync(resultsUrl, doc);
  console.log(`\nbench/RESULTS.md: replaced the tables of ${[...blocks.keys()].join(', ')}; the other modules' tables are unchanged`);
}
process.exit(failed > 0 ? 1 : 0);
