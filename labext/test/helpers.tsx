/** Rendering helpers for the view tests (jsdom). */
import * as React from 'react';
import { act } from 'react';
import { Root, createRoot } from 'react-dom/client';

import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

export interface IMounted {
  container: HTMLElement;
  rerender: (element: JSX.Element) => void;
  unmount: () => void;
}

/** Render `element` into a fresh container attached to the document. */
export function mount(element: JSX.Element): IMounted {
  const container = document.createElement('div');
  document.body.appendChild(container);
  let root: Root;
  act(() => {
    root = createRoot(container);
    root.render(element);
  });
  return {
    container,
    rerender: next => act(() => root.render(next)),
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    }
  };
}

/** Click an element inside `act`. */
export function click(element: Element | null): void {
  if (!element) {
    throw new Error('nothing to click');
  }
  act(() => {
    element.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  });
}

/** Type into a controlled input the way a browser would. */
export function typeInto(input: Element | null, value: string): void {
  if (!(input instanceof HTMLInputElement)) {
    throw new Error('not an input');
  }
  const setter = Object.getOwnPropertyDescriptor(
    HTMLInputElement.prototype,
    'value'
  )!.set!;
  act(() => {
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

/** Text of every element matching `selector`. */
export function texts(root: ParentNode, selector: string): string[] {
  return Array.from(root.querySelectorAll(selector)).map(e => e.textContent ?? '');
}

/** A mime model holding one payload, as the output area would pass it. */
export function mimeModel(mimeType: string, payload: unknown): IRenderMime.IMimeModel {
  return {
    trusted: false,
    data: { [mimeType]: payload as any },
    metadata: {},
    setData: () => undefined
  };
}

export { React };
