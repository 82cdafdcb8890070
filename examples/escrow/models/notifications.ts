import mongoose, { Schema } from 'mongoose';

const notificationSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true, index: true },
    kind: { type: String, enum: ['transfer', 'request', 'system'], required: true },
    title: { type: String, required: true },
    read: { type: Boolean, required: true, default: false },
    // MongoDB deletes the notification once this moment has passed (a TTL index).
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { collection: 'notifications', timestamps: { createdAt: true, updatedAt: false } },
);

export const Notification = mongoose.model('Notification', notificationSchema);
