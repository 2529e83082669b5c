// Splits one CLI line as HAProxy does: `;` separates commands, spaces and tabs separate words, and a backslash
// makes the next character (`;`, space, backslash) part of the word.

/** The commands of one line, each as its words; an empty command (`a;;b`) is an empty array, as in HAProxy. */
export function splitLine(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ';') {
      endWord();
      commands.push(words);
      words = [];
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endWord();
  commands.push(words);
  return commands;
}
