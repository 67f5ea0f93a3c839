import { pick, randomInt, type Random } from './random.ts';

const FIRST = ['james', 'maria', 'liam', 'olivia', 'noah', 'emma', 'lucas', 'mia', 'ethan', 'ava', 'leo', 'zoe'];
const LAST = ['smith', 'garcia', 'miller', 'brown', 'davis', 'lopez', 'wilson', 'moore', 'clark', 'lee'];
const WORDS = ['Sunset', 'Pa55word', 'River', 'Tiger', 'Maple', 'Falcon', 'Comet', 'Harbor', 'Cedar', 'Nova'];
const MARKS = ['!', '#', '$', '@', '%'];

/** Delivered accounts look like the panel's: `user@domain:password`, or `user:password` for social ones. */
export function credentials(random: Random, count: number, mailDomain: string | undefined): string[] {
  return Array.from({ length: count }, () => {
    const user = `${pick(random, FIRST)}.${pick(random, LAST)}${randomInt(random, 10, 9999)}`;
    const password = `${pick(random, WORDS)}${randomInt(random, 10, 99)}${pick(random, MARKS)}`;
    return mailDomain ? `${user}@${mailDomain}:${password}` : `${user.replace('.', '_')}:${password}`;
  });
}
