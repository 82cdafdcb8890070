import { describe, expect, it } from 'vitest';
import type { InferenceReport } from '../../../src/infer/report.js';
import { renderReport } from '../../../src/infer/report-render.js';

function report(idType: string): InferenceReport {
  return {
    version: 1,
    maxColumns: 100,
    warnings: [],
    collections: [
      {
        name: 'users',
        documents: 2,
        complete: true,
        tables: [{ name: 'users', shape: 'root', columns: 2 }],
        decisions: [
          {
            table: 'users',
            column: 'id',
            path: '_id',
            rule: 'id',
            pgType: idType,
            nullable: false,
            evidence: '2/2 present',
            reason: 'primary key',
          },
        ],
      },
    ],
  } as InferenceReport;
}

describe('renderReport', () => {
  it('shows the SQL functions that turn the uuid columns back into ObjectIds, when there are any', () => {
    const text = renderReport(report('uuid'));
    expect(text).toContain('ferry.uuid_to_oid(<uuid column>)');
    expect(text).toContain("ferry.oid_to_uuid('64b7f1c2a9e3d40012345678')");
    expect(renderReport(report('integer'))).not.toContain('ferry.uuid_to_oid');
  });
});
