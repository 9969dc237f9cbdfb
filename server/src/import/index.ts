export { Importer, type ImportReport, type LeadImportReport, type ImportProgress } from './importer.ts';
export { CsvFileError } from './csv.ts';
export { IMPORT_KINDS, type ImportKind, type ImportTargets } from './kinds.ts';
export { importModule } from './routes.ts';
