import { expect } from 'chai';
import { html } from '../../web/html';

describe('the html template tag', () => {
  it('escapes every interpolated value, in text and in attributes, and keeps only its own HTML', () => {
    const name = '<script>alert(1)</script>';
    const title = `" onmouseover="alert(1)`;
    expect(html`<p title="${title}">${name}</p>`.value).to.equal(
      '<p title="&quot; onmouseover=&quot;alert(1)">&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>${"'b'"}</li>`]}</ul>`.value).to.equal('<ul>&lt;a&gt;<li>&#39;b&#39;</li></ul>');
    expect(html`${undefined}${null}${false}${0}&`.value).to.equal('0&');
  });
});
