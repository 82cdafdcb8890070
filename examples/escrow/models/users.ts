import mongoose, { Schema } from 'mongoose';

/** What a user may do: buy, sell, or run the platform. */
export const USER_ROLES = ['buyer', 'seller', 'admin'] as const;
export const USER_STATUSES = ['active', 'suspended', 'closed'] as const;

const userSchema = new Schema(
  {
    email: { type: String, required: true, unique: true, lowercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    status: { type: String, enum: USER_STATUSES, required: true, default: 'active' },
    roles: { type: [{ type: String, enum: USER_ROLES }], default: ['buyer'] },
    // Optional, but unique among the users who gave one: a sparse unique index.
    phone: { type: String, unique: true, sparse: true },
    address: {
      city: { type: String },
      country: { type: String, minlength: 2, maxlength: 2 },
    },
    // Notification channel → on/off. The keys are data (channels come and go), hence a Map.
    preferences: { type: Map, of: Boolean, default: {} },
    kycLevel: { type: Number, enum: [0, 1, 2], default: 0 },
  },
  { collection: 'users', timestamps: true },
);

export const User = mongoose.model('User', userSchema);
