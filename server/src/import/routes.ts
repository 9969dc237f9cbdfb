import getRawBody from 'raw-body';
import { z } from 'zod';
import type { Guard, HttpModule } from '../http/index.ts';
import { CsvFileError } from './csv.ts';
import type { Importer } from './importer.ts';
import { IMPORT_KINDS } from './kinds.ts';

const kindParam = z.enum(IMPORT_KINDS, { error: `must be one of ${IMPORT_KINDS.join(', ')}` });
const optionsQuery = z.object({
  createPlaceholderReps: z
    .enum(['true', 'false', '1', '0'], { error: 'createPlaceholderReps 只能是 true 或 false' })
    .optional()
    .transform((v) => v === 'true' || v === '1'),
});

/**
 * `POST /api/admin/import/{channels|contacts|orders|leads}` with a `text/csv` body; for contacts,
 * `?createPlaceholderReps=true` accepts follow_userids WeCom has not told us of as placeholder reps. The app's body parser
 * reads only JSON and forms, so the raw bytes are read here, under the same size limit.
 */
export function importModule(deps: { importer: Importer; adminGuard: Guard; bodyLimitKb: number }): HttpModule {
  return {
    name: 'import',
    mount(router) {
      router.post('/api/admin/import/:kind', deps.adminGuard, async (ctx) => {
        const kind = kindParam.parse(ctx.params.kind);
        const options = optionsQuery.parse(ctx.query);
        if (!ctx.is('text/csv')) ctx.throw(415, 'import: send the file as Content-Type: text/csv (UTF-8, header row first)');
        const charset = ctx.request.charset;
        if (charset && !/^utf-?8$/i.test(charset)) ctx.throw(400, `import: the file must be UTF-8, not ${charset}`);
        let bytes: Buffer;
        try {
          bytes = await getRawBody(ctx.req, { limit: `${deps.bodyLimitKb}kb`, length: ctx.get('content-length') || undefined });
        } catch (err) {
          const status = (err as { status?: number }).status;
          if (status === 413) ctx.throw(413, `import: the file is larger than ${deps.bodyLimitKb} KB (HTTP_BODY_LIMIT_KB); split it or use npm run import`);
          throw err;
        }
        try {
          ctx.body = await deps.importer.run(kind, bytes, undefined, options);
        } catch (err) {
          if (err instanceof CsvFileError) ctx.throw(400, `import ${kind}: ${err.message}`);
          throw err;
        }
      });
    },
  };
}
