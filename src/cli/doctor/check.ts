/** One line of `agentguard doctor`: what was checked, how it went, and exactly what to do when it did not. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
  fix?: string[];
}

export const ok = (name: string, message: string): DoctorCheck => ({ name, status: 'ok', message });
export const warn = (name: string, message: string, fix?: string[]): DoctorCheck => ({ name, status: 'warn', message, ...(fix ? { fix } : {}) });
export const fail = (name: string, message: string, fix?: string[]): DoctorCheck => ({ name, status: 'fail', message, ...(fix ? { fix } : {}) });
export const skip = (name: string, message: string, fix?: string[]): DoctorCheck => ({ name, status: 'skip', message, ...(fix ? { fix } : {}) });
