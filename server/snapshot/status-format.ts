// The four output formats of `snapshot status` (etcdctl's --write-out / -w):
// simple, table, json and fields, each the text etcdctl 3.4 prints.
import { OutputFormatError } from './errors.js';
import { humanizeBytes } from './humanize-bytes.js';
import type { SnapshotStatus } from './status.js';

export const statusFormats = ['simple', 'table', 'json', 'fields'] as const;
export type StatusFormat = (typeof statusFormats)[number];

/** The format named by -w; etcdctl's error (exit 4) for any other. */
export function statusFormat(name: string): StatusFormat {
  const found = statusFormats.find((format) => format === name);
  if (found === undefined) throw new OutputFormatError(name);
  return found;
}

/** What etcdctl prints on stdout for `status` in `format`, newline included. */
export function formatStatus(status: SnapshotStatus, format: StatusFormat): string {
  switch (format) {
    case 'simple':
      return `${statusRow(status).join(', ')}\n`;
    case 'table':
      return table(['hash', 'revision', 'total keys', 'total size'], statusRow(status));
    case 'json':
      // Field order as Go marshals etcd's snapshot.Status.
      return `${JSON.stringify({ hash: status.hash, revision: status.revision, totalKey: status.totalKey, totalSize: status.totalSize })}\n`;
    case 'fields':
      return `"Hash" : ${status.hash}\n"Revision" : ${status.revision}\n"Keys" : ${status.totalKey}\n"Size" : ${status.totalSize}\n`;
  }
}

/** etcdctl's makeDBStatusTable row: hash in hex, size in SI units. */
function statusRow(status: SnapshotStatus): string[] {
  return [status.hash.toString(16), String(status.revision), String(status.totalKey), humanizeBytes(status.totalSize)];
}

/**
 * One-row table as etcdctl's tablewriter draws it with right alignment:
 * headers upper-cased and centred (the odd space on the right), cells
 * right-aligned, one space of padding inside each border.
 */
function table(headers: string[], row: string[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, (row[i] ?? '').length));
  const rule = `+${widths.map((width) => '-'.repeat(width + 2)).join('+')}+`;
  const line = (cells: string[]): string => `|${cells.map((cell) => ` ${cell} `).join('|')}|`;
  const centred = headers.map((header, i) => {
    const gap = (widths[i] ?? 0) - header.length;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + header.toUpperCase() + ' '.repeat(gap - left);
  });
  const cells = row.map((cell, i) => cell.padStart(widths[i] ?? 0));
  return [rule, line(centred), rule, line(cells), rule].join('\n') + '\n';
}
