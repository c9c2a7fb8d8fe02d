import { summariseCpuProfile } from './cpu-profile.js';
const s = await summariseCpuProfile(process.argv[2]!);
console.log('total', s.totalMs.toFixed(0));
for (const a of s.byArea) console.log('area', a.name.padEnd(40), a.selfMs.toFixed(0));
for (const f of s.topSelf) console.log('self', f.selfMs.toFixed(0).padStart(6), f.name, f.where);
for (const f of s.topStaplerdInclusive) console.log('incl', f.totalMs.toFixed(0).padStart(6), f.name, f.where);
