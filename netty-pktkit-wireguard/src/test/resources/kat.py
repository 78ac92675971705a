# Independent derivation (Python hashlib + pyca/cryptography) of a WireGuard initiation and response for fixed keys.
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization as s
def H(*p): return hashlib.blake2s(b''.join(p)).digest()
def HM(k,*p): return hmac.new(k,b''.join(p),hashlib.blake2s).digest()
def KDF(n,k,x):
    t0=HM(k,x); out=[]; prev=b''
    for i in range(n): prev=HM(t0,prev,bytes([i+1])); out.append(prev)
    return out
def MAC(k,x): return hashlib.blake2s(x,key=k,digest_size=16).digest()
def pub(k): return X25519PrivateKey.from_private_bytes(k).public_key().public_bytes(s.Encoding.Raw,s.PublicFormat.Raw)
def DH(k,p): return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(p))
def AEAD(k,pt,ad): return ChaCha20Poly1305(k).encrypt(bytes(12),pt,ad)
si=bytes(range(1,33)); sr=bytes(range(33,65)); ei=bytes(range(65,97)); er=bytes(range(97,129)); psk=bytes([7])*32
Si=pub(si); Sr=pub(sr)
ts=struct.pack('>QI',0x400000000000000a+1700000000, 0)
C=H(b'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s'); Hh=H(C,b'WireGuard v1 zx2c4 Jason@zx2c4.com'); Hh=H(Hh,Sr)
Ei=pub(ei); C=KDF(1,C,Ei)[0]; Hh=H(Hh,Ei)
C,k=KDF(2,C,DH(ei,Sr)); est=AEAD(k,Si,Hh); Hh=H(Hh,est)
C,k=KDF(2,C,DH(si,Sr)); ets=AEAD(k,ts,Hh); Hh=H(Hh,ets)
msg=bytes([1,0,0,0])+struct.pack('<I',0x11223344)+Ei+est+ets
msg+=MAC(H(b'mac1----',Sr),msg)+bytes(16)
print('INIT', msg.hex())
Er=pub(er); C=KDF(1,C,Er)[0]; Hh=H(Hh,Er)
C=KDF(1,C,DH(er,Ei))[0]; C=KDF(1,C,DH(er,Si))[0]
C,tau,k=KDF(3,C,psk); Hh=H(Hh,tau); emp=AEAD(k,b'',Hh); Hh=H(Hh,emp)
r=bytes([2,0,0,0])+struct.pack('<II',0x55667788,0x11223344)+Er+emp
r+=MAC(H(b'mac1----',Si),r)+bytes(16)
print('RESP', r.hex())
t1,t2=KDF(2,C,b'')
print('T1', t1.hex()); print('T2', t2.hex())
pkt=ChaCha20Poly1305(t1).encrypt(bytes(4)+struct.pack('<Q',0),bytes(16),b'')
print('DATA0', pkt.hex())
