import { LabIcon } from '@jupyterlab/ui-components';

/** Three stacked discs: a data lake. Uses JupyterLab's icon colour classes. */
const LAKES_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2C7.6 2 4 3.3 4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5c0-1.7-3.6-3-8-3zm0 2c3.9 0 6 1.1 6 1s-2.1 1-6 1-6-.9-6-1 2.1-1 6-1zM6 7.4C7.5 8 9.6 8.3 12 8.3s4.5-.3 6-.9V10c0 .4-2.1 1.5-6 1.5S6 10.4 6 10V7.4zm0 5c1.5.6 3.6.9 6 .9s4.5-.3 6-.9V15c0 .4-2.1 1.5-6 1.5S6 15.4 6 15v-2.6zM12 20c-3.9 0-6-1.1-6-1v-1.6c1.5.6 3.6.9 6 .9s4.5-.3 6-.9V19c0 -.1-2.1 1-6 1z"/>
  </g>
</svg>`;

export const lakesIcon = new LabIcon({
  name: '@data-lake-collab/labext:lakes',
  svgstr: LAKES_SVG
});
