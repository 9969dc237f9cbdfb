import { Schema, type Connection, type Model } from 'mongoose';

/** An image an operator uploaded for message content (an attachment, a mini-program cover). */
const operatorMediaSchema = new Schema<OperatorMedia>(
  {
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    bytes: { type: Buffer, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);

/**
 * A WeCom temporary media_id for one image source (our media id or a URL), reused until shortly
 * before WeCom forgets it. One entry per source, so two instances share it.
 */
const wecomMediaSchema = new Schema<WecomMediaEntry>({
  source: { type: String, required: true, unique: true },
  mediaId: { type: String, required: true },
  /** WeCom's created_at. */
  uploadedAt: { type: Date, required: true },
  /** uploadedAt + 3 days − a margin: after it the next send uploads again. */
  validUntil: { type: Date, required: true },
});

export interface OperatorMedia {
  contentType: string;
  size: number;
  bytes: Buffer;
  createdAt: Date;
}

export interface WecomMediaEntry {
  source: string;
  mediaId: string;
  uploadedAt: Date;
  validUntil: Date;
}

export interface MediaModels {
  OperatorMedia: Model<OperatorMedia>;
  WecomMedia: Model<WecomMediaEntry>;
}

export function registerMediaModels(connection: Connection): MediaModels {
  return {
    OperatorMedia: connection.model('OperatorMedia', operatorMediaSchema, 'operator_media'),
    WecomMedia: connection.model('WecomMedia', wecomMediaSchema, 'wecom_media'),
  };
}
