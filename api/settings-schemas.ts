/** The settings API's request bodies live with the settings services (the admin pages parse their forms with them). */
export * from '../services/admin/settings-schemas';
