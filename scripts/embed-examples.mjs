// Copies each example file into the README and docs/ pages that show it: the ```ts block after
// every `<!-- example: examples/….ts -->` line is replaced by the file's text. The test suite
// (ts/test/examples.test.ts) fails when a page and its file differ.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const pages = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
for (const page of pages) {
  const text = readFileSync(page, 'utf8');
  const next = text.replace(
    /^<!-- example: (examples\/[\w.-]+\.ts) -->\n```ts\n[\s\S]*?^```$/gm,
    (_, file) => `<!-- example: ${file} -->\n\`\`\`ts\n${readFileSync(file, 'utf8')}\`\`\``,
  );
  if (next !== text) {
    writeFileSync(page, next);
    console.log(`updated ${page}`);
  }
}
