/**
 * `npm run bench`: runs every bench module (bench/*.ts exporting `run()`), prints the tables and
 * writes them to bench/RESULTS.md with the machine and date. Timings are compared with a floor
 * measured in the same run, never asserted in tests.
 *   npm run bench                 all modules
 *   npm run bench -- actions      only the named module(s)
 */
import { readdirSync, writeFileSync } from 'node:fs';
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
let failed = 0;
for (const name of modules) {
  const t0 = performance.now();
  process.stdout.write(`\n== bench/${name}.ts ==\n`);
  try {
    const mod = (await import(pathToFileURL(`${dir}${name}.ts`).href)) as { run?: () => Promise<BenchSection[]> };
    if (typeof mod.run !== 'function') continue;
    for (const section of await mod.run()) {
      const md = markdown(section);
      console.log(md);
      parts.push(md);
    }
  } catch (e) {
    failed++;
    const msg = `### bench/${name}.ts failed\n\n\`${(e as Error).message}\`\n`;
    console.error(msg);
    parts.push(msg);
  }
  console.log(`(bench/${name}.ts took ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

if (wanted.length === 0) {
  const doc = `# Benchmark results\n\nMeasured by \`npm run bench\` on ${started.toISOString().slice(0, 10)} (${started.toISOString()}).\nMachine: ${machine}.\n\nEach table compares with a floor measured in the same run; ratios are what to compare between machines.\n\n${parts.join('\n')}`;
  writeFileSync(new URL('RESULTS.md', import.meta.url), doc);
  console.log('\nwrote bench/RESULTS.md');
} else {
  console.log('\n(partial run: bench/RESULTS.md not rewritten)');
}
process.exit(failed > 0 ? 1 : 0);
