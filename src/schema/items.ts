import { ItemType as ItemTypeValues, type ImageRecord, type ItemRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const ItemType = builder.enumType('ItemType', {
  values: Object.values(ItemTypeValues),
});

export const Item = builder.objectRef<ItemRecord>('Item');
export const Image = builder.objectRef<ImageRecord>('Image');
export const AddItemsPayload = builder.objectRef<{ items: ItemRecord[] }>('AddItemsPayload');
