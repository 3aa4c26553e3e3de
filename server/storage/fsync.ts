// fsync of a file or directory by path: makes a new file's contents, or a
// directory's entries (a created or renamed file), durable.
import { closeSync, fsyncSync, openSync } from 'node:fs';

export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
