// The dashboard's only JavaScript, served from the daemon (/dashboard/assets/app.js). Every page works
// without it (plain links and forms); with it, selectors apply on change, destructive forms ask first,
// times show in the reader's zone, and [data-live] regions refresh themselves: at once when the live
// event stream says something changed, else every few seconds while the page is visible.
export const CLIENT_JS = `(function(){
'use strict';
var d=document;d.documentElement.classList.add('js');
function each(sel,fn){Array.prototype.forEach.call(d.querySelectorAll(sel),fn);}
function ready(){
each('form[data-autosubmit]',function(f){f.addEventListener('change',function(){f.requestSubmit?f.requestSubmit():f.submit();});});
each('form[data-confirm]',function(f){f.addEventListener('submit',function(e){if(!window.confirm(f.getAttribute('data-confirm'))){e.preventDefault();}});});
localTimes(d);
each('[data-live]',live);
}
function localTimes(root){
Array.prototype.forEach.call(root.querySelectorAll('time[datetime]'),function(t){
var v=new Date(t.getAttribute('datetime'));if(isNaN(v.getTime()))return;
t.textContent=v.toLocaleString(undefined,{dateStyle:'medium',timeStyle:'short'});});
}
function live(el){
var src=el.getAttribute('data-src'),every=Number(el.getAttribute('data-every')||5000),busy=false,again=false;
var say=d.getElementById(el.getAttribute('data-status')||'');
function refresh(){
if(busy){again=true;return;}busy=true;
fetch(src,{credentials:'same-origin',headers:{'accept':'text/html'}}).then(function(r){
if(r.status===401){window.location.reload();return null;}return r.ok?r.text():null;
}).then(function(html){
if(html!==null&&html!==el.innerHTML){
var before=el.querySelectorAll('[data-item]').length;el.innerHTML=html;localTimes(el);
var after=el.querySelectorAll('[data-item]').length;
if(say&&after!==before){say.textContent=after>before?(after-before)+' new':'List updated';}
}}).catch(function(){}).then(function(){busy=false;if(again){again=false;refresh();}});
}
setInterval(function(){if(!d.hidden)refresh();},every);
var stream=el.getAttribute('data-stream');
if(stream&&window.EventSource){
var es=new EventSource(stream);var t=null;
es.onmessage=kick;
['changed','message.received','message.sent','message.status','conversation.opened','conversation.state_changed','conversation.routed','draft.created','draft.resolved'].forEach(function(k){es.addEventListener(k,kick);});
es.onerror=function(){if(es.readyState===2){es=null;}};
function kick(){if(t)return;t=setTimeout(function(){t=null;refresh();},300);}
}
}
if(d.readyState==='loading'){d.addEventListener('DOMContentLoaded',ready);}else{ready();}
})();
`;
