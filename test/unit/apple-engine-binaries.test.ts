import { expect } from 'chai';
import { findAppleEngineBinaries } from '../../platforms/apple/engines';

describe('Apple engines: findAppleEngineBinaries', () => {
  it('is off, naming the variable and path, when NANOMDM_BIN or SCEPSERVER_BIN names no binary', () => {
    const nanomdm = findAppleEngineBinaries({ ...process.env, NANOMDM_BIN: '/nonexistent/nanomdm' });
    expect(nanomdm).to.have.property('off').that.includes('NANOMDM_BIN=/nonexistent/nanomdm');
    const scep = findAppleEngineBinaries({ ...process.env, SCEPSERVER_BIN: '/nonexistent/scepserver' });
    expect(scep).to.have.property('off').that.includes('SCEPSERVER_BIN=/nonexistent/scepserver');
  });

  it('takes NANOMDM_BIN and SCEPSERVER_BIN over PATH and .tools/bin', () => {
    const found = findAppleEngineBinaries({
      ...process.env,
      NANOMDM_BIN: process.execPath,
      SCEPSERVER_BIN: '/bin/sh',
    });
    expect(found).to.deep.equal({ binaries: { nanomdm: process.execPath, scepserver: '/bin/sh' } });
  });
});
