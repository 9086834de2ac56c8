/**
 * Splits one line of a delimited file into fields: CSV quoting ("a,b" and "" for a quote inside)
 * for a one-character delimiter, a plain split for longer ones (MovieLens' `::`). Quoted fields
 * spanning lines are not supported: ratings files have none.
 */
export function splitDelimited(line: string, delimiter: string): string[] {
  if (delimiter.length !== 1 || !line.includes('"')) return line.split(delimiter);
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}
