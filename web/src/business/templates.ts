// Template variables, for the business app's template picker (no
// imports: unit-tested in web/unit/templatevars.test.mjs).

// templateVars lists the variables of a template text: {{1}}, {{2}}
// (positional: by number) or {{order_id}} (named: in order of
// appearance), each once.
export function templateVars(text: string, named: boolean): string[] {
  const re = named ? /\{\{([a-z_][a-z0-9_]*)\}\}/g : /\{\{(\d+)\}\}/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) if (!out.includes(m[1])) out.push(m[1]);
  return named ? out : out.sort((a, b) => Number(a) - Number(b));
}

// fillVars shows a template text with the values given so far; a
// variable without a value stays as it is written.
export function fillVars(text: string, vars: string[], values: Record<string, string>): string {
  return vars.reduce((s, v) => s.replaceAll(`{{${v}}}`, values[v] || `{{${v}}}`), text);
}
