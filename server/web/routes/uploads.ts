// File import for a mailbox: the upload page and its dry run / report page, and the API twin.
//
// Two ways in, both streamed to disk:
//   - resumable (the page's script, and scripts): POST /api/mailboxes/:id/uploads {name, size}
//     → 201 + Location; PATCH /api/uploads/:fid with Upload-Offset and the bytes from there
//     (Content-Type application/offset+octet-stream); HEAD /api/uploads/:fid says where it stands.
//     An offset protocol (tus's core, without its extensions) rather than one multipart POST: a cut
//     costs only the chunk in flight, the server says how much it has (the client may not know
//     what reached the disk), and no part of the file is ever sent twice.
//   - one multipart POST (the form without JavaScript, and `curl -F file=@x.pst`), read by multer
//     with a storage engine that writes each part straight into its upload directory.
import express, { type Request, type RequestHandler, type Router } from 'express';
import multer from 'multer';
import { CutoverError, formatBytes } from '../../errors.ts';
import { appendChunk, createUpload, projectUploads, removeUpload, startFileRun, uploadById, uploadMaxBytes, uploadsOf, uploadWhole, type UploadView } from '../../files/uploads.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { csrf } from '../csrf.ts';
import { errorText } from '../errors.ts';
import { reportModel, uploadRow } from '../models/file-upload.ts';
import { flash, renderPage, translator } from '../page.ts';
import { mailboxById } from '../../db/repos/mailboxes.ts';
import { mailboxId } from './mailboxes.ts';
import { projectIdParam } from './projects.ts';
import { projectById } from '../../db/repos/projects.ts';

const MULTIPART_PATHS = [/^\/mailboxes\/(\d+)\/files$/, /^\/api\/mailboxes\/(\d+)\/files$/];
const MAX_FILES = 20;

declare global {
  namespace Express {
    interface Request {
      /** Files a multipart upload wrote, in order. */
      fileUploads?: UploadView[];
    }
  }
}

function uploadId(req: Request): number {
  const id = Number(req.params.fid);
  if (!Number.isInteger(id) || id <= 0) throw new CutoverError('UPLOAD_UNKNOWN', { ref: String(req.params.fid) });
  return id;
}

/**
 * Reads a multipart file upload ahead of the CSRF check (a form without JavaScript sends its
 * token as a field), but writes a file part only once the token that came before it checks out
 * (or an API token authenticated the request): a forged cross-site upload never reaches the disk.
 */
export function fileUploadParser(web: WebContext): RequestHandler {
  const storage: multer.StorageEngine = {
    _handleFile(req, file, cb) {
      const id = Number(MULTIPART_PATHS.map((p) => p.exec(req.path)?.[1]).find(Boolean));
      if (!req.apiToken && !csrf.isRequestValid(req)) {
        file.stream.resume();
        cb(new CutoverError('INPUT_INVALID', { detail: 'the form token (_csrf) must come before the file' }));
        return;
      }
      uploadWhole(web.app, id, file.originalname, file.stream, webActor(req.session.userName ?? 'api'), uploadMaxBytes())
        .then((view) => { (req.fileUploads ??= []).push(view); cb(null, { size: view.size }); }, (err: unknown) => cb(err as Error));
    },
    _removeFile(_req, _file, cb) { cb(null); },
  };
  const parse = multer({ storage, limits: { files: MAX_FILES, fields: 8, parts: MAX_FILES + 8, fieldSize: 4096 }, defParamCharset: 'utf8' }).array('file', MAX_FILES);
  return (req, res, next) => {
    if (req.method !== 'POST' || !req.is('multipart/form-data') || !req.session?.userId || !MULTIPART_PATHS.some((p) => p.test(req.path))) return next();
    parse(req, res, (err: unknown) => {
      if (err) res.locals.fileUploadError = err;
      next();
    });
  };
}

function multipartProblem(res: express.Response): unknown {
  return res.locals.fileUploadError;
}

/** The upload page, the dry-run/report page, and the JSON API for both. */
export function uploadRoutes(web: WebContext): Router {
  const router = express.Router();
  const app = web.app;
  const actor = (req: Request) => webActor(req.session.userName);

  const filesPage = async (req: Request, res: express.Response, status = 200, problem?: string) => {
    const t = translator(req);
    const id = mailboxId(req);
    const mailbox = await mailboxById(app.db, id);
    const uploads = (await uploadsOf(app, id)).map(uploadRow);
    renderPage(req, res, 'mailbox-files', {
      title: t('files.title', { address: mailbox.address }), mailbox: { id, address: mailbox.address }, uploads, problem,
      limit: formatBytes(uploadMaxBytes()), maxBytes: uploadMaxBytes(),
      ...(uploads.some((u) => u.running) && { refresh: true }),
    }, status);
  };

  router.get('/mailboxes/:id/files', async (req, res) => { await filesPage(req, res); });

  // A project's file imports: each mailbox, its files and their outcome, and where to upload more.
  router.get('/projects/:id/files', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    const project = await projectById(app.db, id);
    const mailboxes = (await projectUploads(app, id)).map((m) => ({ ...m, uploads: m.uploads.map((u) => ({ ...uploadRow(u), summary: reportModel(u.report) })) }));
    renderPage(req, res, 'project-files', { title: t('files.projectTitle', { name: project.name }), project: { id, name: project.name }, mailboxes });
  });

  router.get('/api/projects/:id/files', async (req, res) => {
    res.json({ mailboxes: await projectUploads(app, projectIdParam(req)) });
  });

  router.post('/mailboxes/:id/files', async (req, res) => {
    const t = translator(req);
    const problem = multipartProblem(res);
    const written = req.fileUploads ?? [];
    if (problem || !written.length) {
      const detail = problem instanceof CutoverError ? errorText(req, problem) : problem instanceof Error ? problem.message : t('import.noFile');
      await filesPage(req, res, problem instanceof CutoverError && problem.code === 'UPLOAD_TOO_LARGE' ? 413 : 400, t('files.badUpload', { detail }));
      return;
    }
    for (const u of written) await startFileRun(app, mailboxId(req), u.id, 'check');
    res.redirect(303, `${req.baseUrl}/mailboxes/${mailboxId(req)}/files/${written[0]!.id}`);
  });

  router.get('/mailboxes/:id/files/:fid', async (req, res) => {
    const id = mailboxId(req);
    const mailbox = await mailboxById(app.db, id);
    const upload = uploadRow(await uploadById(app, uploadId(req), id));
    renderPage(req, res, 'mailbox-file', {
      title: upload.name, mailbox: { id, address: mailbox.address }, upload,
      plan: reportModel(upload.plan), report: reportModel(upload.report),
      ...(upload.running && { refresh: true }),
    });
  });

  for (const [action, mode] of [['check', 'check'], ['import', 'import']] as const) {
    router.post(`/mailboxes/:id/files/:fid/${action}`, async (req, res) => {
      const id = mailboxId(req);
      const fid = uploadId(req);
      try {
        await startFileRun(app, id, fid, mode);
        flash(req, 'ok', translator(req)('files.started'));
      } catch (err) {
        if (!(err instanceof CutoverError) || err.code !== 'UPLOAD_STATE') throw err;
        flash(req, 'error', errorText(req, err));
      }
      res.redirect(303, `${req.baseUrl}/mailboxes/${id}/files/${fid}`);
    });
  }

  router.post('/mailboxes/:id/files/:fid/remove', async (req, res) => {
    const id = mailboxId(req);
    const upload = await uploadById(app, uploadId(req), id);
    if (upload.state === 'checking' || upload.state === 'importing') throw new CutoverError('UPLOAD_STATE', { name: upload.name, state: upload.state, detail: 'wait for the run to end' });
    await removeUpload(app, upload.id);
    flash(req, 'ok', translator(req)('files.removed'));
    res.redirect(303, `${req.baseUrl}/mailboxes/${id}/files`);
  });

  // --- API ---------------------------------------------------------------------------------

  router.get('/api/mailboxes/:id/files', async (req, res) => {
    res.json({ uploads: await uploadsOf(app, mailboxId(req)), maxBytes: uploadMaxBytes() });
  });

  router.post('/api/mailboxes/:id/files', async (req, res) => {
    const problem = multipartProblem(res);
    if (problem) throw problem instanceof CutoverError ? problem : new CutoverError('INPUT_INVALID', { detail: problem instanceof Error ? problem.message : String(problem) });
    const written = req.fileUploads ?? [];
    if (!written.length) throw new CutoverError('INPUT_INVALID', { detail: 'no file: send the files as multipart/form-data fields named "file"' });
    const started = [];
    for (const u of written) started.push(req.query.dryRun === 'false' ? u : await startFileRun(app, mailboxId(req), u.id, 'check'));
    res.status(201).json({ uploads: started });
  });

  router.post('/api/mailboxes/:id/uploads', async (req, res) => {
    const upload = await createUpload(app, mailboxId(req), { name: String(req.body?.name ?? ''), size: Number(req.body?.size) }, actor(req));
    res.status(201).location(`${req.baseUrl}/api/uploads/${upload.id}`).set('Upload-Offset', '0').set('Upload-Length', String(upload.size)).json(upload);
  });

  router.head('/api/uploads/:fid', async (req, res) => {
    const upload = await uploadById(app, uploadId(req));
    res.set({ 'Upload-Offset': String(upload.offset), 'Upload-Length': String(upload.size), 'Cache-Control': 'no-store' }).status(200).end();
  });

  router.patch('/api/uploads/:fid', async (req, res) => {
    if (!req.is('application/offset+octet-stream')) throw new CutoverError('INPUT_INVALID', { detail: 'PATCH takes Content-Type: application/offset+octet-stream' });
    const offset = Number(req.get('upload-offset'));
    const upload = await appendChunk(app, uploadId(req), offset, req);
    res.set('Upload-Offset', String(upload.offset)).status(204).end();
  });

  router.get('/api/uploads/:fid', async (req, res) => {
    res.json(await uploadById(app, uploadId(req)));
  });

  for (const [action, mode] of [['dry-run', 'check'], ['import', 'import']] as const) {
    router.post(`/api/uploads/:fid/${action}`, async (req, res) => {
      const upload = await uploadById(app, uploadId(req));
      res.status(202).json(await startFileRun(app, upload.mailboxId, upload.id, mode));
    });
  }

  router.delete('/api/uploads/:fid', async (req, res) => {
    const upload = await uploadById(app, uploadId(req));
    if (upload.state === 'checking' || upload.state === 'importing') throw new CutoverError('UPLOAD_STATE', { name: upload.name, state: upload.state, detail: 'wait for the run to end' });
    await removeUpload(app, upload.id);
    res.status(204).end();
  });

  return router;
}
