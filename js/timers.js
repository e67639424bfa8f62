/**
 * Under Node, pqlkit's own timers (a deadline, a save, a retry) must not keep the process alive:
 * a script that called track() exits without destroy(). Browsers' timer ids are numbers.
 */
export const unref = (timer) => (timer?.unref?.(), timer);

