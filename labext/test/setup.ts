// Tell React that tests wrap updates in `act`.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// jsdom has no DragEvent, which @lumino/dragdrop (under @lumino/widgets)
// extends when it loads.
if (typeof window !== 'undefined' && typeof (window as any).DragEvent === 'undefined') {
  (window as any).DragEvent = class DragEvent extends MouseEvent {};
}
